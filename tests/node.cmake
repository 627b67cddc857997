# The node engine (common/node*.c): nodes wired through an in-memory broker on a fake clock.
add_library(mqttip_node_lab STATIC unit/node_lab.c)
target_link_libraries(mqttip_node_lab PUBLIC mqttip_node)
mqttip_unit_test(test_node SOURCES unit/test_node.c LIBS mqttip_node_lab)
# Offloads in the engine: super-packets whole, cut, coalesced, read in place, forged.
mqttip_unit_test(test_node_offload SOURCES unit/test_node_offload.c LIBS mqttip_node_lab)

# The field failures the engine fixed, and the VPN revocation list on a broker that enforces
# nothing, with real agents and a host-port device.
if(TARGET mqttip AND TARGET mqttip_plugin AND TARGET mqttip-device AND TARGET jsonget)
	set(node_env "MQTTIP=$<TARGET_FILE:mqttip>" "MQTTIP_PLUGIN=$<TARGET_FILE:mqttip_plugin>"
		"JSONGET=$<TARGET_FILE:jsonget>" "DELAYRELAY=$<TARGET_FILE:delayrelay>"
		"DEVICE=$<TARGET_FILE:mqttip-device>")
	list(APPEND node_env ${MQTTIP_BROKER_PRELOAD_ENV})
	foreach(t node_field revocation_e2e)
		add_test(NAME ${t} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.sh)
		set_tests_properties(${t} PROPERTIES LABELS integration TIMEOUT 300
			SKIP_RETURN_CODE 77 ENVIRONMENT "${node_env}")
	endforeach()
endif()
