// The worker's workflowsPath: workflow functions only.
export { connectionWorkflow } from './connection';
export { webhookDeliveryWorkflow } from './webhooks';
