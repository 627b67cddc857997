# Broker plugin (plugin/): integration tests against a real mosquitto with TLS and certificates
# made in the test (tests/integration/plugin_*.sh, shared functions in lib/broker.sh), plus the
# benchmark tool and the policy parser's fuzz target.
if(NOT TARGET mqttip_plugin)
	return()
endif()
find_program(MOSQUITTO_BIN mosquitto PATHS /usr/sbin)
pkg_check_modules(PLUGIN_TEST_CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(LIBMOSQUITTO IMPORTED_TARGET libmosquitto)

add_executable(metrics_get integration/metrics_get.c)
target_link_libraries(metrics_get PRIVATE PkgConfig::PLUGIN_TEST_CJSON)
if(LIBMOSQUITTO_FOUND)
	add_executable(connect_loop integration/connect_loop.c)
	target_link_libraries(connect_loop PRIVATE PkgConfig::LIBMOSQUITTO)
endif()

# In the sanitizer build the plugin needs the ASan runtime loaded first into the (uninstrumented)
# mosquitto: the scripts preload it.
set(plugin_test_env "MQTTIP_PLUGIN=$<TARGET_FILE:mqttip_plugin>"
	"MQTTIP_METRICS_GET=$<TARGET_FILE:metrics_get>")
if(LIBMOSQUITTO_FOUND)
	list(APPEND plugin_test_env "MQTTIP_CONNECT_LOOP=$<TARGET_FILE:connect_loop>")
endif()
if(TARGET mqttip)
	list(APPEND plugin_test_env "MQTTIP_AGENT=$<TARGET_FILE:mqttip>")
endif()
list(APPEND plugin_test_env ${MQTTIP_BROKER_PRELOAD_ENV})

if(MOSQUITTO_BIN AND LIBMOSQUITTO_FOUND)
	foreach(t acl metrics hostile options noticks top)
		add_test(NAME plugin_${t}
			COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/plugin_${t}.sh)
		set_tests_properties(plugin_${t} PROPERTIES LABELS integration TIMEOUT 90
			ENVIRONMENT "${plugin_test_env}" SKIP_RETURN_CODE 77)
	endforeach()
endif()

# Pure parts: ACL decisions and policy grammar, certificate identity, metrics renderings (unit), policy parser (fuzz).
mqttip_unit_test(test_plugin_acl SOURCES unit/test_plugin_acl.c LIBS mqttip_plugin_core)
mqttip_unit_test(test_plugin_identity SOURCES unit/test_plugin_identity.c LIBS mqttip_plugin_core)
mqttip_unit_test(test_plugin_metrics SOURCES unit/test_plugin_metrics.c LIBS mqttip_plugin_metrics)
target_compile_definitions(test_plugin_metrics PRIVATE _POSIX_C_SOURCE=200809L)
mqttip_fuzz_target(fuzz_policy ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_policy.c mqttip_plugin_core)
