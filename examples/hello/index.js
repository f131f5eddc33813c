// A CommonJS function: the smallest Lambda handler.
let invocations = 0;

exports.handler = async (event, context) => {
  invocations += 1;
  console.log('hello invoked with', JSON.stringify(event));
  return {
    // Invoked with {"name": …}, or through its function URL with ?name=…
    message: `Hello, ${event.name ?? event.queryStringParameters?.name ?? 'world'}!`,
    requestId: context.awsRequestId,
    // Module state survives between invocations of a warm environment.
    invocationsInThisEnvironment: invocations,
  };
};
