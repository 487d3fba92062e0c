// The master config of the Kubernetes deployment (mounted from the yardmaster-config
// ConfigMap). Worker pods are started from the queue by the kubernetesLatentWorker:
// one pod per build, at most maxPods at once. See docs/config.md and docs/kubernetes.md.
import {
  buildFactory,
  builder,
  defineConfig,
  forceScheduler,
  kubernetesLatentWorker,
  shellCommand,
} from '@yardmaster/master';

export default defineConfig({
  title: 'Yardmaster on Kubernetes',
  workers: [
    kubernetesLatentWorker('k8s', {
      image: process.env.YARDMASTER_WORKER_IMAGE ?? 'yardmaster/worker:0.1.0',
      namespace: process.env.YARDMASTER_NAMESPACE ?? 'yardmaster',
      // The Service every master is behind: worker pods connect back through it.
      masterAddress: 'yardmaster:9989',
      maxPods: 10,
      minIdle: 0,
      idleTimeout: '5m',
      serviceAccountName: 'yardmaster-worker',
      resources: {
        requests: { cpu: '500m', memory: '512Mi' },
        limits: { cpu: '2', memory: '2Gi' },
      },
      inCluster: true,
    }),
  ],
  builders: [
    builder({
      name: 'sample',
      workerNames: ['k8s'],
      collapseRequests: false,
      factory: buildFactory([
        shellCommand({ command: ['echo', 'hello from a worker pod'] }),
        shellCommand({ command: 'uname -a && id && sleep 5' }),
      ]),
    }),
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['sample'] })],
});
