# What an installation of mqttip relies on beyond the protocol: the journal's log priorities
# (integration, as root).
if(NOT TARGET mqttip)
	return()
endif()

add_test(NAME agent_journal
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_journal.sh $<TARGET_FILE:mqttip>)
set_tests_properties(agent_journal PROPERTIES LABELS integration TIMEOUT 60 SKIP_RETURN_CODE 77)
