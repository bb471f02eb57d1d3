#!/bin/sh
# A stack of N services (default 500), each with the keys real stacks use.
n=${1:-500}
echo 'version: "3.9"'
echo 'x-common: &common'
echo '  image: registry.example.com/team/app:1.2.3'
echo '  networks: [front, back]'
echo '  deploy:'
echo '    replicas: 2'
echo '    update_config: {parallelism: 1, delay: 10s, order: start-first}'
echo '    resources: {limits: {cpus: "0.5", memory: 256M}}'
echo '    restart_policy: {condition: on-failure, max_attempts: 3}'
echo 'services:'
i=0
while [ $i -lt "$n" ]; do
	cat <<EOS
  svc$i:
    <<: *common
    command: ["serve", "--port", "80", "--name", "svc$i"]
    environment:
      SERVICE: svc$i
      LOG_LEVEL: \${LOG_LEVEL:-info}
      DB_URL: postgres://db:5432/app$i
    labels: [team=platform, service=svc$i]
    ports: ["$((20000 + i)):80"]
    healthcheck: {test: ["CMD", "true"], interval: 30s, timeout: 5s}
EOS
	i=$((i + 1))
done
echo 'networks:'
echo '  front: {driver: overlay}'
echo '  back: {driver: overlay, internal: true}'
