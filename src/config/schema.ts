import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

/**
 * The one configuration schema. Keys are flat snake_case so that each maps to one
 * env variable (`GATEHOUSE_` + upper case) and one flag (`--kebab-case`).
 */
export const ConfigSchema = Type.Object(
  {
    database_url: Type.String({ pattern: '^(sqlite:|postgres(ql)?://)', description: 'sqlite:<file> or postgres://…' }),
    redis_url: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    host: Type.String({ minLength: 1 }),
    gateway_port: Port,
    portal_port: Port,
    admin_port: Port,
    services: Type.Array(
      Type.Union([Type.Literal('gateway'), Type.Literal('admin'), Type.Literal('portal'), Type.Literal('worker')]),
      { minItems: 1 },
    ),
    secret: Type.Optional(Type.String({ minLength: 32 })),
    data_dir: Type.String({ minLength: 1 }),
    smtp_url: Type.Optional(Type.String({ pattern: '^smtps?://' })),
    mail_from: Type.String({ minLength: 3 }),
    public_gateway_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    public_portal_url: Type.Optional(Type.String({ pattern: '^https?://' })),
    demo: Type.Boolean(),
    sample_upstream_port: Port,
    auto_migrate: Type.Boolean(),
    admin_email: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' })),
    admin_password: Type.Optional(Type.String({ minLength: 8 })),
    log_level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    trust_proxy: Type.Boolean(),
    // Gateway
    upstream_timeout_ms: Type.Integer({ minimum: 1 }),
    upstream_connect_timeout_ms: Type.Integer({ minimum: 1 }),
    max_header_bytes: Type.Integer({ minimum: 1024 }),
    max_url_length: Type.Integer({ minimum: 64 }),
    key_roll_grace_seconds: Type.Integer({ minimum: 0 }),
    redis_fail_mode: Type.Union([Type.Literal('fail_open'), Type.Literal('fail_closed')]),
    // Analytics
    analytics_buffer_size: Type.Integer({ minimum: 100 }),
    analytics_flush_ms: Type.Integer({ minimum: 10 }),
    analytics_raw_retention_hours: Type.Integer({ minimum: 0 }),
    // Control plane
    body_limit_bytes: Type.Integer({ minimum: 1024 }),
    docs_max_bytes: Type.Integer({ minimum: 1024 }),
    session_ttl_hours: Type.Integer({ minimum: 1 }),
    // Webhooks (worker)
    webhook_retry_base_ms: Type.Integer({
      minimum: 1,
      description: 'Delay before the 2nd delivery attempt; doubles after each failure',
    }),
    webhook_max_attempts: Type.Integer({ minimum: 1, maximum: 50 }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ServiceName = Config['services'][number];

export const DEFAULTS: Config = {
  database_url: 'sqlite:./data/gatehouse.db',
  host: '0.0.0.0',
  gateway_port: 8080,
  portal_port: 3000,
  admin_port: 3001,
  services: ['gateway', 'admin', 'portal', 'worker'],
  data_dir: './data',
  mail_from: 'Gatehouse <no-reply@gatehouse.local>',
  demo: true,
  sample_upstream_port: 8090,
  auto_migrate: true,
  log_level: 'info',
  trust_proxy: false,
  upstream_timeout_ms: 30_000,
  upstream_connect_timeout_ms: 5_000,
  max_header_bytes: 16 * 1024,
  max_url_length: 8 * 1024,
  key_roll_grace_seconds: 0,
  redis_fail_mode: 'fail_open',
  analytics_buffer_size: 50_000,
  analytics_flush_ms: 1_000,
  analytics_raw_retention_hours: 24 * 7,
  body_limit_bytes: 1024 * 1024,
  docs_max_bytes: 10 * 1024 * 1024,
  session_ttl_hours: 24 * 14,
  webhook_retry_base_ms: 10_000,
  webhook_max_attempts: 8,
};
