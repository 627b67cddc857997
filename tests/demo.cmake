# The mqttip program's command line (unit): `mqttip --help`, every command's and subcommand's
# --help, and bad command lines, read from the program's own command list.
# `mqttip demo` run non-interactively (integration, as root): the tour's figures are real, and it
# leaves nothing behind, also when killed or after --keep / --down.
if(NOT TARGET mqttip)
	return()
endif()

add_test(NAME cli_help
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_help.sh $<TARGET_FILE:mqttip>)
set_tests_properties(cli_help PROPERTIES LABELS unit TIMEOUT 30)
# One style of usage error for every command and subcommand (agent/cli.h): unknown option, missing
# value, stray argument: exit status 2, the same three-part message (unit).
add_test(NAME cli_errors
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_errors.sh $<TARGET_FILE:mqttip>)
set_tests_properties(cli_errors PROPERTIES LABELS unit TIMEOUT 60)

if(NOT TARGET mqttip_plugin)
	return()
endif()
set(demo_test_env "MQTTIP_PLUGIN=$<TARGET_FILE:mqttip_plugin>")
list(APPEND demo_test_env ${MQTTIP_BROKER_PRELOAD_ENV})
foreach(part tour keep interrupt)
	add_test(NAME demo_${part}
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/demo_check.sh $<TARGET_FILE:mqttip>
			${part})
	set_tests_properties(demo_${part} PROPERTIES LABELS integration TIMEOUT 90
		ENVIRONMENT "${demo_test_env}" RUN_SERIAL TRUE)
endforeach()
