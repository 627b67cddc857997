# The documentation's examples (issue 17): README.md's "Deploy by hand" run as written in a lab of
# namespaces, one per machine (integration, as root: tests/integration/docs_readme.sh), every other
# command block of README.md and docs/ accounted for (tests/docs/inventory.sh, unit), and
# docs/AGENT.md checked against `mqttip up --help` (unit) and `mqttip status` (integration).
add_test(NAME docs_inventory
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/docs/inventory.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(docs_inventory PROPERTIES LABELS unit TIMEOUT 30)

if(NOT TARGET mqttip OR NOT TARGET mqttip_plugin)
	return()
endif()
set(docs_test_env "")
list(APPEND docs_test_env ${MQTTIP_BROKER_PRELOAD_ENV})

add_test(NAME docs_agent_help
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/docs_agent.sh $<TARGET_FILE:mqttip>
		$<TARGET_FILE:mqttip_plugin> ${CMAKE_SOURCE_DIR} help)
set_tests_properties(docs_agent_help PROPERTIES LABELS unit TIMEOUT 30)
add_test(NAME docs_agent_status
	COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/docs_agent.sh $<TARGET_FILE:mqttip>
		$<TARGET_FILE:mqttip_plugin> ${CMAKE_SOURCE_DIR} status)
set_tests_properties(docs_agent_status PROPERTIES LABELS integration TIMEOUT 90)

foreach(part install broker deploy)
	add_test(NAME docs_readme_${part}
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/docs_readme.sh
			$<TARGET_FILE:mqttip> $<TARGET_FILE:mqttip_plugin> ${CMAKE_SOURCE_DIR} ${part})
	set_tests_properties(docs_readme_${part} PROPERTIES LABELS integration TIMEOUT 240
		SKIP_RETURN_CODE 77)
endforeach()
if(docs_test_env)
	set_tests_properties(docs_agent_status docs_readme_install docs_readme_broker
		docs_readme_deploy PROPERTIES ENVIRONMENT "${docs_test_env}")
endif()
