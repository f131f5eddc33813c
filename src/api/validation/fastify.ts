/**
 * The validator compiler of Lambda's routes: a route's `schema` is checked by `shape.ts`, and a
 * failure leaves as Lambda's error (SerializationException for a wrong JSON type, one
 * ValidationException listing every broken constraint). Nothing reaches the handler unchecked.
 */
import type { FastifySchemaCompiler } from 'fastify';
import { SerializationException, ValidationException, validationMessage } from '../../core/errors.js';
import { compileShape, type Shape } from '../../core/shape.js';

export const lambdaValidatorCompiler: FastifySchemaCompiler<Shape> = ({ schema, httpPart }) => {
  const check = compileShape(schema, httpPart === 'querystring' ? 'querystring' : 'body');
  return (data: unknown) => {
    const out = check(data);
    if (out.ok) return { value: out.value };
    return {
      error: out.kind === 'type' ? new SerializationException(out.message) : new ValidationException(validationMessage(out.violations)),
    };
  };
};
