import type { z } from 'zod';
import { CanopyError, describeIssues, ErrorCode } from '@canopy/schema';

/** Parses a command field with its schema; bad input becomes BAD_USER_INPUT naming the field. */
export function parseField<T>(field: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [issue] = describeIssues(result.error);
  throw new CanopyError(ErrorCode.BAD_USER_INPUT, `${field} ${issue?.message ?? 'is invalid'}.`, { field });
}
