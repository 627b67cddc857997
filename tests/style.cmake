# The tree stays clang-formatted: a test, so a change that forgets it fails.
find_program(CLANG_FORMAT clang-format)
if(CLANG_FORMAT)
	add_test(NAME clang_format
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/check-format.sh ${CLANG_FORMAT}
		WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
	set_tests_properties(clang_format PROPERTIES LABELS unit)
endif()
