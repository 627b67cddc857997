# What an installation of mqttip relies on beyond the protocol: log priorities for the journal, man
# pages, bash completion, the Debian packages, the Grafana dashboard.
if(NOT TARGET mqttip)
	return()
endif()

# The agent's log under the journal (integration, as root).
add_test(NAME agent_journal
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_journal.sh $<TARGET_FILE:mqttip>)
set_tests_properties(agent_journal PROPERTIES LABELS integration TIMEOUT 60 SKIP_RETURN_CODE 77)

# The man pages (docs/man/) and what the programs say: every command's and subcommand's --help
# against its page, `mqttip help CMD`, the plugin's options against mqttip-plugin(5) (unit).
add_executable(plugin_options tools/plugin_options.c)
target_link_libraries(plugin_options PRIVATE mqttip_plugin_core)
add_test(NAME man_pages
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/check-man.sh $<TARGET_FILE:mqttip> ${MQTTIP_MAN_DIR}
		$<TARGET_FILE:plugin_options>)
set_tests_properties(man_pages PROPERTIES LABELS unit TIMEOUT 60)

# The bash completion, run as bash runs it on TAB, against the real program (unit).
add_test(NAME bash_completion
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/check-completion.sh $<TARGET_FILE:mqttip>
		${CMAKE_SOURCE_DIR}/agent/completion/mqttip.bash)
set_tests_properties(bash_completion PROPERTIES LABELS unit TIMEOUT 60)

# The Debian packages built from the tree, extracted, checked by lintian, their programs and pages
# run (integration, as root). The build is its own (debian/rules), so the sanitizer and fuzz
# configurations do not repeat it.
if(NOT MQTTIP_SANITIZE AND NOT MQTTIP_FUZZ)
	add_test(NAME package_build
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/package_build.sh ${CMAKE_SOURCE_DIR})
	set_tests_properties(package_build PROPERTIES LABELS integration TIMEOUT 300
		SKIP_RETURN_CODE 77)
endif()

# The Grafana dashboard (conf/grafana-mqttip.json) against a real plugin's Prometheus textfile
# (integration).
find_program(MOSQUITTO_BIN mosquitto PATHS /usr/sbin)
if(TARGET mqttip_plugin AND MOSQUITTO_BIN)
	set(dashboard_env "MQTTIP_PLUGIN=$<TARGET_FILE:mqttip_plugin>")
	list(APPEND dashboard_env ${MQTTIP_BROKER_PRELOAD_ENV})
	add_test(NAME dashboard_series
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/dashboard_series.sh
			${CMAKE_SOURCE_DIR}/conf/grafana-mqttip.json)
	set_tests_properties(dashboard_series PROPERTIES LABELS integration TIMEOUT 60
		SKIP_RETURN_CODE 77 ENVIRONMENT "${dashboard_env}")
endif()
