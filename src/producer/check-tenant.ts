// A tenant name from the caller, checked before anything reaches Redis (it becomes part of key names).
import { ValidationError } from '../errors.js';
import { TENANT_PATTERN } from '../tasks/admission-store.js';

export function checkTenant(tenant: string): string {
  if (!TENANT_PATTERN.test(tenant)) {
    throw new ValidationError(
      [
        {
          path: 'tenant',
          rule: 'pattern',
          message: `must match ${TENANT_PATTERN} (got ${JSON.stringify(tenant)})`,
        },
      ],
      'invalid tenant',
    );
  }
  return tenant;
}
