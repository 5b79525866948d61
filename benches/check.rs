//! `pforge check` on generated configs of 100, 1,000 and 5,000 tools.
//! Target: under 50 ms for 1,000 tools in release mode on a 2-core machine, growing linearly.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A config with `tools` tools, cycling through every kind and most policies.
fn config(tools: usize) -> String {
    let mut text = String::from(
        "forge:\n  name: bench-server\n  version: 1.0.0\nfault_tolerance:\n  circuit_breaker:\n    failure_threshold: 5\n    timeout: 60s\n  retry:\n    max_attempts: 3\n    initial_delay: 100ms\ntools:\n",
    );
    for i in 0..tools {
        let tool = match i % 4 {
            0 => format!(
                "  - type: http\n    name: fetch_{i}\n    description: \"Fetch item {i}\"\n    endpoint: \"https://api.example.com/items/{{{{item_id}}}}\"\n    method: GET\n    timeout_ms: 10000\n    retry:\n      max_attempts: 3\n      initial_delay: 100ms\n      max_delay: 5s\n      jitter: true\n    fallback:\n      type: value\n      value: {{cached: true}}\n    bulkhead:\n      max_concurrent: 20\n"
            ),
            1 => format!(
                "  - type: native\n    name: compute_{i}\n    handler: handlers::compute_{i}::handle\n    params:\n      n: {{type: integer, required: true, minimum: 0, maximum: 100}}\n      label: string\n"
            ),
            2 => format!(
                "  - type: cli\n    name: run_{i}\n    command: echo\n    args: [\"{{{{message}}}}\"]\n    timeout_ms: 2000\n"
            ),
            _ => format!(
                "  - type: pipeline\n    name: flow_{i}\n    timeout_ms: 30000\n    steps:\n      - tool: compute_{}\n        params: {{n: 1, label: x}}\n        output_var: out\n      - tool: run_{}\n        params: {{message: \"{{{{out}}}}\"}}\n",
                i - 2,
                i - 1
            ),
        };
        text.push_str(&tool);
    }
    text
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    for tools in [100, 1_000, 5_000] {
        let text = config(tools);
        let loaded = pforge::load::load_str("bench.yaml", &text);
        assert!(
            loaded.diagnostics.is_empty(),
            "{:?}",
            loaded.diagnostics.first()
        );
        group.throughput(Throughput::Elements(tools as u64));
        group.bench_with_input(BenchmarkId::from_parameter(tools), &text, |b, text| {
            b.iter(|| pforge::load::load_str("bench.yaml", text))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = check
}
criterion_main!(benches);
