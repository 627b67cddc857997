# Brokers other than one mosquitto (docs/SCALING.md), label "cluster": a three-node RabbitMQ
# cluster in network namespaces (Debian's rabbitmq-server, started once per test file) and two
# mosquitto brokers with the plugin joined by a bridge, each with agents on it. As root; a test
# that cannot run says why and is skipped (exit 77).
if(NOT TARGET mqttip OR NOT TARGET mqttip_plugin)
	return()
endif()

set(cluster_env "")
list(APPEND cluster_env ${MQTTIP_BROKER_PRELOAD_ENV})
foreach(t rabbitmq bridge)
	add_test(NAME cluster_${t}
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cluster_${t}.sh $<TARGET_FILE:mqttip>
			$<TARGET_FILE:mqttip_plugin>)
	set_tests_properties(cluster_${t} PROPERTIES LABELS cluster TIMEOUT 300 SKIP_RETURN_CODE 77
		ENVIRONMENT "${cluster_env}")
endforeach()
# Three Erlang VMs booting take both cores for a while: not beside the other heavy tests.
set_tests_properties(cluster_rabbitmq PROPERTIES RUN_SERIAL TRUE)
