//! Plan + emit, and write, of generated configs of 100, 1,000 and 2,000 tools; plan + emit of
//! 1,000 tools with every policy on.
//! Target: plan + emit + write under 300 ms for 1,000 tools on a 2-core machine, linear.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A config of `tools` tools of every kind. `protected` turns every policy on: defaults give
/// each tool a timeout, a retry and a breaker; http tools add a bulkhead and a fallback chain.
fn config(tools: usize, protected: bool) -> String {
    let mut text = String::from("forge:\n  name: bench-server\n  version: 1.0.0\n");
    if protected {
        text.push_str("fault_tolerance:\n  timeout_ms: 5000\n  retry: {max_attempts: 3}\n  circuit_breaker: {failure_threshold: 5}\n  error_tracking: {enabled: true}\n");
    }
    text.push_str("tools:\n");
    for i in 0..tools {
        text.push_str(&match i % 4 {
            0 if protected => format!("  - type: http\n    name: fetch_{i}\n    endpoint: \"https://api.example.com/items/{{{{item_id}}}}\"\n    headers: {{Accept: application/json}}\n    bulkhead: {{max_concurrent: 8, max_queued: 16, timeout: 1s}}\n    fallback:\n      - {{type: http, endpoint: \"https://backup.example.com/items/{{{{item_id}}}}\"}}\n      - {{type: value, value: {{stale: true}}}}\n"),
            0 => format!("  - type: http\n    name: fetch_{i}\n    endpoint: \"https://api.example.com/items/{{{{item_id}}}}\"\n    headers: {{Accept: application/json}}\n"),
            1 => format!("  - type: native\n    name: compute_{i}\n    handler: handlers::compute_{i}::handle\n    params:\n      n: {{type: integer, required: true, minimum: 0, maximum: 100}}\n      label: {{type: string, default: x}}\n"),
            2 => format!("  - type: cli\n    name: run_{i}\n    command: echo\n    args: [\"{{{{message}}}}\"]\n"),
            _ => format!(
                "  - type: pipeline\n    name: flow_{i}\n    timeout_ms: 30000\n    steps:\n      - tool: compute_{}\n        params: {{n: 1}}\n        output_var: out\n      - tool: run_{}\n        params: {{message: \"{{{{out}}}}\"}}\n",
                i - 2,
                i - 1
            ),
        });
    }
    text
}

fn generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    // Every policy on every tool: the generated code per tool is several times larger.
    let loaded = pforge::load::load_str("bench.yaml", &config(1_000, true));
    let Some(protected) = loaded.config else {
        panic!("{:?}", loaded.diagnostics.first())
    };
    group.throughput(Throughput::Elements(1_000));
    group.bench_with_input(
        BenchmarkId::new("plan+emit-protected", 1_000),
        &protected,
        |b, config| b.iter(|| pforge::emit::generate(&pforge::plan::plan(config))),
    );
    for tools in [100, 1_000, 2_000] {
        let loaded = pforge::load::load_str("bench.yaml", &config(tools, false));
        let Some(config) = loaded.config else {
            panic!("{:?}", loaded.diagnostics.first())
        };
        group.throughput(Throughput::Elements(tools as u64));
        group.bench_with_input(
            BenchmarkId::new("plan+emit", tools),
            &config,
            |b, config| b.iter(|| pforge::emit::generate(&pforge::plan::plan(config))),
        );
        // Under target/, not /tmp, which is a much slower filesystem on some machines.
        let dir =
            tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap_or_else(|e| panic!("{e}"));
        // Writing alone, into a fresh directory each time so every file is really created.
        // Directories are kept until the group ends: deleting thousands of files between
        // iterations slows the next writes down on some filesystems.
        let rendered =
            pforge::emit::generate(&pforge::plan::plan(&config)).unwrap_or_else(|e| panic!("{e}"));
        group.bench_with_input(BenchmarkId::new("write", tools), &rendered, |b, files| {
            b.iter_custom(|iterations| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iterations {
                    let root = tempfile::tempdir_in(dir.path())
                        .unwrap_or_else(|e| panic!("{e}"))
                        .keep();
                    let start = std::time::Instant::now();
                    pforge::write::write_files(&root, files).unwrap_or_else(|e| panic!("{e}"));
                    total += start.elapsed();
                }
                total
            })
        });
        group.bench_with_input(
            BenchmarkId::new("rebuild-unchanged", tools),
            &config,
            |b, config| {
                let root = tempfile::tempdir_in(dir.path()).unwrap_or_else(|e| panic!("{e}"));
                let files = pforge::emit::generate(&pforge::plan::plan(config))
                    .unwrap_or_else(|e| panic!("{e}"));
                pforge::write::write_files(root.path(), &files).unwrap_or_else(|e| panic!("{e}"));
                b.iter(|| {
                    let files = pforge::emit::generate(&pforge::plan::plan(config))
                        .unwrap_or_else(|e| panic!("{e}"));
                    pforge::write::write_files(root.path(), &files)
                        .unwrap_or_else(|e| panic!("{e}"))
                })
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = generate
}
criterion_main!(benches);
