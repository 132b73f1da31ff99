import { checkFields, encryptForLinkflow } from '../../../domain/credentials';
import type { InputField } from '../../../contract/messages';
import { ApiError } from '../../errors';

/**
 * Challenge answers in plaintext, checked against the challenge's fields and then encrypted with
 * Linkflow's public key: all the workflow ever receives. A confirmation (OK_CANCEL) is always
 * answered; the other inputs too, unless the end user cancels (an OK_CANCEL answered "false").
 * Throws ApiError 422 `invalid_answers` with `{ fields: [{ id, message }] }` (messages never hold values).
 * Used by POST /v1/connections/:id/challenge and the Connect page.
 */
export async function encryptedChallengeAnswers(
  fields: InputField[],
  answers: { id: string; value: string }[],
  credentialsPublicKey: string,
): Promise<{ id: string; value: string }[]> {
  const errors = checkFields(fields, answers, false);
  const cancelled = answers.some((a) => fields.find((f) => f.id === a.id)?.type === 'OK_CANCEL' && a.value === 'false');
  for (const field of fields) {
    if (!answers.some((a) => a.id === field.id) && (field.type === 'OK_CANCEL' || !cancelled)) {
      errors.push({ id: field.id, message: `${field.label} is required` });
    }
  }
  if (errors.length > 0) throw new ApiError(422, 'invalid_answers', 'Some answers are not valid.', { fields: errors });
  return Promise.all(answers.map(async (a) => ({ id: a.id, value: await encryptForLinkflow(credentialsPublicKey, a.value) })));
}
