// An ES module function; top-level await runs once, during Init.
const startedAt = await Promise.resolve(new Date().toISOString());

export const handler = async (event, context) => ({
  greeting: `Hi ${event.name ?? 'there'} from ${context.functionName}`,
  environmentStartedAt: startedAt,
  initializationType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
  remainingMs: context.getRemainingTimeInMillis(),
});
