# Shared by run.sh and fuzz.sh: removing a stack and waiting until the
# engine (DOCKER_HOST) has let go of its services and networks.

wait_gone() { # stack: until its services and networks are gone
	local i
	for i in $(seq 1 120); do
		[ -z "$(docker service ls -q --filter label=com.docker.stack.namespace=$1)$(docker network ls -q --filter label=com.docker.stack.namespace=$1)" ] && return 0
		sleep 0.5
	done
	return 1
}

remove() { # stack
	docker stack rm "$1" >/dev/null 2>&1
	wait_gone "$1"
}
