//! The parts of a rendered diff, on argo-cd's install.yaml (../shared/corpus):
//! parsing one version, indexing the lines of each document, diffing two parsed versions, and the summary; and pairing the
//! renames of 3,000 ConfigMaps whose generated suffix changed.
//! `cargo bench --bench diff`; figures in docs/performance.md.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use tollgate::manifest::chunks::Indexed;
use tollgate::manifest::documents::split_documents;
use tollgate::manifest::{Summary, diff_objects, parse_documents};

fn corpus(path: &str) -> Vec<u8> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn argo_cd(c: &mut Criterion) {
    let old = corpus("argo-cd/v2.14.0/manifests/install.yaml");
    let new = corpus("argo-cd/v3.0.0/manifests/install.yaml");
    let mut group = c.benchmark_group("argo-cd v2.14.0 → v3.0.0");
    group.sample_size(20);
    group.bench_function("parse one version (1.4 MB)", |b| {
        b.iter(|| parse_documents("install.yaml", black_box(&old)))
    });
    let text = std::sync::Arc::new(String::from_utf8(new.clone()).expect("UTF-8"));
    let docs: Vec<std::ops::Range<usize>> = split_documents(&text)
        .iter()
        .map(|doc| {
            let start = doc.text.as_ptr() as usize - text.as_ptr() as usize;
            start..start + doc.text.len()
        })
        .collect();
    group.bench_function("index each document's lines (1.4 MB)", |b| {
        b.iter(|| {
            docs.iter()
                .filter(|range| Indexed::within(black_box(&text), (*range).clone()).is_some())
                .count()
        })
    });
    let old_objects = parse_documents("install.yaml", &old).objects;
    let new_objects = parse_documents("install.yaml", &new).objects;
    group.bench_function("diff parsed objects", |b| {
        b.iter(|| {
            diff_objects(
                black_box(old_objects.clone()),
                black_box(new_objects.clone()),
            )
        })
    });
    let diff = diff_objects(old_objects.clone(), new_objects.clone());
    group.bench_function("summary", |b| b.iter(|| Summary::of(black_box(&diff))));
    group.bench_function("JSON of the changed objects", |b| {
        b.iter(|| serde_json::to_vec(&diff.changed().collect::<Vec<_>>()))
    });
    group.finish();
}

/// A configMapGenerator's hash changed for 3,000 ConfigMaps of one namespace: every one
/// is removed and added, and pairing them back is the diff's work.
fn generated_renames(c: &mut Criterion) {
    let side = |hash: &str| {
        (0..3000)
            .map(|i| {
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}-{hash}\n  namespace: a\ndata:\n  k: v\n"
                )
            })
            .collect::<Vec<_>>()
            .join("---\n")
    };
    let old = parse_documents("cms.yaml", side("5g9m6fk7t2").as_bytes()).objects;
    let new = parse_documents("cms.yaml", side("8h2c4t9b7k").as_bytes()).objects;
    let mut group = c.benchmark_group("3,000 generated renames");
    group.sample_size(10);
    group.bench_function("diff parsed objects", |b| {
        b.iter(|| diff_objects(black_box(old.clone()), black_box(new.clone())))
    });
    group.finish();
}

criterion_group!(benches, argo_cd, generated_renames);
criterion_main!(benches);
