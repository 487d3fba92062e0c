/** A fake Kubernetes API server and kubelet for tests, and a kustomize subset renderer. */
export {
  normalizeObjects,
  readYamlDocuments,
  renderKustomization,
  strategicMerge,
  type K8sObject,
} from './kustomize.js';
export {
  FakeKubernetes,
  parseLabelSelector,
  type FakeKubernetesOptions,
  type FakePod,
  type PodBehaviour,
  type PodRunner,
  type RunningContainer,
} from './fake-kubernetes.js';
