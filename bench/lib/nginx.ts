import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * nginx as a plain reverse proxy, set up to be comparable with the single-threaded Node
 * targets: one worker, access log off, keep-alive both to clients and to the upstream
 * (`proxy_http_version 1.1` + empty `Connection`, as the upstream keepalive docs say).
 * Everything it writes (pid, logs, temp files) stays in `dir`.
 */
export function writeNginxConfig(dir: string, port: number, upstreamPort: number): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'nginx.conf');
  const conf = `
daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;

events {
  worker_connections 4096;
}

http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  # Node's server has no per-connection request cap; nginx's default (1000) would make
  # wrk reconnect now and then, which the Node targets never do.
  keepalive_requests 1000000;
  keepalive_timeout 120s;

  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }

  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`;
  writeFileSync(file, conf);
  return file;
}
