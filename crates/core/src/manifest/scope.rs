//! Which kinds are cluster-scoped, so that a namespaced object without a namespace takes
//! the environment's default and a cluster-scoped one never carries one. Without a cluster
//! to ask, this knows the built-in kinds and learns custom kinds from the CRDs rendered
//! alongside them.

use std::collections::HashSet;

use super::object::{ManifestObject, ObjectKey};

/// Built-in cluster-scoped kinds, by `(group, kind)`.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("policy", "PodSecurityPolicy"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
];

/// Custom kinds that are cluster-scoped, by `(group, kind)`, learnt from CRDs.
pub type ClusterKinds = HashSet<(String, String)>;

/// Give every namespaced object without a namespace `default_namespace`, and take the
/// namespace off cluster-scoped objects (the API server ignores it there).
pub fn assign_namespaces(objects: &mut [ManifestObject], default_namespace: Option<&str>) {
    let custom = custom_cluster_kinds(objects);
    for object in objects {
        place(&mut object.key, default_namespace, &custom);
    }
}

/// [`assign_namespaces`] for one key, knowing the custom cluster-scoped kinds.
pub fn place(key: &mut ObjectKey, default_namespace: Option<&str>, custom: &ClusterKinds) {
    let cluster = CLUSTER_SCOPED
        .iter()
        .any(|(g, k)| *g == key.group && *k == key.kind)
        || custom.contains(&(key.group.clone(), key.kind.clone()));
    if cluster {
        key.namespace = None;
    } else if key.namespace.is_none() {
        key.namespace = default_namespace.map(str::to_string);
    }
}

/// `(group, kind)` of every CRD in `objects` whose `spec.scope` is `Cluster`.
pub fn custom_cluster_kinds(objects: &[ManifestObject]) -> ClusterKinds {
    objects.iter().filter_map(cluster_kind_defined_by).collect()
}

/// `(group, kind)` that `object` defines as cluster-scoped, if it is such a CRD.
pub fn cluster_kind_defined_by(object: &ManifestObject) -> Option<(String, String)> {
    if object.key.kind != "CustomResourceDefinition" {
        return None;
    }
    let spec = object.spec(&["scope", "group", "names"])?;
    if spec.get("scope")?.as_str()? != "Cluster" {
        return None;
    }
    Some((
        spec.get("group")?.as_str()?.to_string(),
        spec.get("names")?.get("kind")?.as_str()?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_documents;
    use serde_json::Value;

    #[test]
    fn namespaced_objects_take_the_default_and_cluster_ones_lose_theirs() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: x}\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.acme.io}\nspec: {group: acme.io, scope: Cluster, names: {kind: Widget}}\n---\napiVersion: acme.io/v1\nkind: Widget\nmetadata: {name: w}\n";
        let mut objects = parse_documents("a.yaml", text.as_bytes()).objects;
        assign_namespaces(&mut objects, Some("shop"));
        let namespaces: Vec<_> = objects.iter().map(|o| o.key.namespace.clone()).collect();
        assert_eq!(namespaces, [Some("shop".to_string()), None, None, None]);
    }

    #[test]
    fn value_is_untouched() {
        let mut objects = parse_documents(
            "a.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        )
        .objects;
        assign_namespaces(&mut objects, None);
        assert_eq!(
            objects[0]
                .value()
                .get("metadata")
                .and_then(|m| m.get("namespace")),
            None::<&Value>
        );
    }

    #[test]
    fn a_large_crd_kept_as_text_still_says_its_kind_is_cluster_scoped() {
        let crd = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.acme.io\nspec:\n  group: acme.io\n  names:\n    kind: Widget\n  scope: Cluster\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        description: {}\n",
            "x".repeat(200 * 1024)
        );
        let text = format!(
            "{crd}---\napiVersion: acme.io/v1\nkind: Widget\nmetadata: {{name: w, namespace: x}}\n"
        );
        let mut objects = parse_documents("a.yaml", text.as_bytes()).objects;
        assert!(objects[0].source().is_some(), "kept as text");
        assign_namespaces(&mut objects, Some("shop"));
        assert_eq!(objects[1].key.namespace, None);
    }
}
