-- Personal includes clicks-by-group, but its documented selection rule is unstated; it
-- gets Premium's (a list of at most 5 groups) rather than 0, which would make the
-- entitlement unusable. A lower plan is never more permissive than a higher one.
UPDATE plans SET entitlements = entitlements || '{"group_list_max": 5}'::jsonb
WHERE code = 'personal';
