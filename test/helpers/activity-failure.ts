import { ApplicationFailure } from '@temporalio/activity';
import { expect } from 'vitest';

/** Resolves to the ApplicationFailure the call rejected with; fails the test if it resolved. */
export async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}
