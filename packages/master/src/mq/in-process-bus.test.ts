import { InProcessBus } from './in-process-bus.js';
import { busContract } from './bus.contract.js';

busContract('in-process', () => {
  const bus = new InProcessBus(() => undefined);
  return Promise.resolve({ bus, close: () => bus.close() });
});
