# mqttip up / status: the tunnel daemon end to end, as root, in network namespaces made by the
# tests, with a real mosquitto, the plugin and TLS (integration). Each script says why and fails
# when it cannot run (not root, no /dev/net/tun).
if(NOT TARGET mqttip OR NOT TARGET mqttip_plugin)
	return()
endif()

add_executable(agent_tcpcat integration/tcpcat.c)

set(agent_test_env "MQTTIP_TCPCAT=$<TARGET_FILE:agent_tcpcat>"
	"MQTTIP_VECTORS=${MQTTIP_VECTORS}")
list(APPEND agent_test_env ${MQTTIP_BROKER_PRELOAD_ENV})

set(agent_tests ping transfer restart rekey renew legacy spy adversary badinput statussock keyperms
	offload)
if(NOT MQTTIP_SANITIZE)
	list(APPEND agent_tests valgrind) # valgrind cannot run an ASan build
endif()
foreach(t ${agent_tests})
	add_test(NAME agent_${t}
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_${t}.sh $<TARGET_FILE:mqttip>
			$<TARGET_FILE:mqttip_plugin>)
	set_tests_properties(agent_${t} PROPERTIES LABELS integration TIMEOUT 120
		ENVIRONMENT "${agent_test_env}" SKIP_RETURN_CODE 77)
endforeach()
# the broker operator attacking a running pair: same lab, its own layer
set_tests_properties(agent_adversary PROPERTIES LABELS adversarial)

# `mqttip status --json` from a running agent whose interface name and broker host hold quotes and
# backslashes: the socket's bytes parse, the names come back (integration, as root).
if(TARGET jsonget)
	add_test(NAME agent_statusjson
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_statusjson.sh
			$<TARGET_FILE:mqttip>)
	set_tests_properties(agent_statusjson PROPERTIES LABELS integration TIMEOUT 60
		SKIP_RETURN_CODE 77 ENVIRONMENT "JSONGET=$<TARGET_FILE:jsonget>")
endif()

# Benchmark tool (not a test): the broker ceiling that tests/bench/agent_lab.sh (between two
# namespaces) and tests/bench/plugin_throughput.sh (with and without the plugin) measure.
find_package(Threads REQUIRED)
add_executable(mqtt_ceiling bench/mqtt_ceiling.c)
pkg_check_modules(AGENT_MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
target_link_libraries(mqtt_ceiling PRIVATE PkgConfig::AGENT_MOSQUITTO Threads::Threads)
# ... and the raw MQTT round trip that the benchmark compares the tunnel's ping with.
add_executable(mqtt_rtt bench/mqtt_rtt.c)
target_link_libraries(mqtt_rtt PRIVATE PkgConfig::AGENT_MOSQUITTO)
# ... and the floor of a ping through any TUN tunnel (a TUN reader that answers pings itself).
add_executable(tun_echo bench/tun_echo.c)
# The benchmark itself, briefly (plain broker, 1 s, 10 pings): it keeps working. Its figures are
# not checked; bench/agent_lab.sh prints them.
add_test(NAME agent_lab_smoke COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench/agent_lab.sh
	${CMAKE_BINARY_DIR} 1)
set_tests_properties(agent_lab_smoke PROPERTIES LABELS integration TIMEOUT 300
	ENVIRONMENT "AGENT_LAB_QUICK=1;AGENT_LAB_MODES=plain;AGENT_LAB_WG=0"
	PASS_REGULAR_EXPRESSION "plain\\.mqttip_nooffload +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+")

# Settings and broker URL of `mqttip up` (unit).
pkg_check_modules(AGENT_UV REQUIRED IMPORTED_TARGET libuv)
find_package(OpenSSL 3 REQUIRED)
mqttip_unit_test(test_agent_config
	SOURCES unit/test_agent_config.c ${CMAKE_SOURCE_DIR}/agent/config.c
		${CMAKE_SOURCE_DIR}/agent/cli.c
		${CMAKE_SOURCE_DIR}/agent/broker.c ${CMAKE_SOURCE_DIR}/agent/log.c
		${CMAKE_SOURCE_DIR}/agent/statuspath.c
	LIBS mqttip_netaddr mqttip_topic PkgConfig::SODIUM PkgConfig::AGENT_MOSQUITTO
		PkgConfig::AGENT_UV OpenSSL::SSL)
target_include_directories(test_agent_config PRIVATE ${CMAKE_SOURCE_DIR}/agent)
target_compile_definitions(test_agent_config
	PRIVATE MQTTIP_EXAMPLE_CONF="${CMAKE_SOURCE_DIR}/conf/agent.conf")

# `mqttip status --json`: the document parses and names with quotes, backslashes and control
# characters come back byte for byte (unit).
pkg_check_modules(AGENT_CJSON REQUIRED IMPORTED_TARGET libcjson)
mqttip_unit_test(test_status_json
	SOURCES unit/test_status_json.c ${CMAKE_SOURCE_DIR}/agent/status_json.c
		${CMAKE_SOURCE_DIR}/agent/broker.c ${CMAKE_SOURCE_DIR}/agent/log.c
	LIBS mqttip_common PkgConfig::SODIUM PkgConfig::AGENT_MOSQUITTO PkgConfig::AGENT_UV
		PkgConfig::AGENT_CJSON OpenSSL::SSL)
target_include_directories(test_status_json PRIVATE ${CMAKE_SOURCE_DIR}/agent)

# `mqttip pki rabbitmq`: the exported RabbitMQ patterns against the plugin's own decisions (unit).
mqttip_unit_test(test_rabbitmq_acl
	SOURCES unit/test_rabbitmq_acl.c ${CMAKE_SOURCE_DIR}/agent/rabbitmq_acl.c
	LIBS mqttip_plugin_core mqttip_netaddr mqttip_topic)
target_include_directories(test_rabbitmq_acl PRIVATE ${CMAKE_SOURCE_DIR}/agent)
