//! Planning a reconcile of 10,000 objects: the first apply (nothing in the inventory),
//! and a pass where 1% changed and 1% are gone (prune). `cargo bench --bench
//! reconcile_plan`; figures in docs/performance.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tollgate::manifest::{ManifestObject, parse_documents};
use tollgate::reconcile::inventory::{Inventory, RunResult};
use tollgate::reconcile::plan::{PlanOptions, applied_entry, plan};

fn objects(count: usize, version: &str) -> Vec<ManifestObject> {
    let text: String = (0..count)
        .map(|i| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: ns-{}\n  labels: {{app: app-{i}}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: app-{i}}}}}\n  template:\n    metadata: {{labels: {{app: app-{i}}}}}\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/acme/app-{i}:{}\n        resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}\n---\n",
                i % 50,
                if i % 100 == 0 { version } else { "1.0.0" }
            )
        })
        .collect();
    parse_documents("all.yaml", text.as_bytes()).objects
}

fn inventory_of(objects: &[ManifestObject]) -> Inventory {
    Inventory {
        revision: Some("r".into()),
        time: String::new(),
        result: RunResult::Applied,
        counts: Default::default(),
        objects: objects.iter().map(applied_entry).collect(),
        message: None,
    }
}

fn plan_10k(c: &mut Criterion) {
    let before = objects(10_000, "1.0.0");
    let inventory = inventory_of(&before);
    // 1% changed (every 100th image), 1% gone.
    let mut after = objects(10_000, "2.0.0");
    after.truncate(9_900);
    let options = PlanOptions {
        prune: true,
        max_prune_percent: 30,
        force_prune: false,
    };
    let mut group = c.benchmark_group("plan 10,000 objects");
    group.sample_size(20);
    group.bench_function("first apply (empty inventory)", |b| {
        b.iter(|| plan(black_box(&before), None, options))
    });
    group.bench_function("1% changed, 1% pruned", |b| {
        b.iter(|| plan(black_box(&after), Some(&inventory), options))
    });
    group.finish();
}

criterion_group!(benches, plan_10k);
criterion_main!(benches);
