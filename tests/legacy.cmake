# Legacy MQTT_VPN interoperability: the codec and cache (unit), and the captures of the real
# implementation in ${MQTTIP_VECTORS}/mqtt_vpn replayed through our decoder (compat_vectors).

mqttip_unit_test(test_legacy SOURCES unit/test_legacy.c LIBS mqttip_legacy)
target_compile_definitions(test_legacy PRIVATE
	MQTTIP_LEGACY_CAPTURE="${MQTTIP_VECTORS}/mqtt_vpn/encrypted-secret.txt")

add_executable(compat_vectors tools/compat_vectors.c)
target_link_libraries(compat_vectors PRIVATE mqttip_legacy mqttip_topic mqttip_iphdr)

add_test(NAME compat_vectors_plaintext
	COMMAND compat_vectors ${MQTTIP_VECTORS}/mqtt_vpn/plaintext.txt)
add_test(NAME compat_vectors_secret
	COMMAND compat_vectors --password secret ${MQTTIP_VECTORS}/mqtt_vpn/encrypted-secret.txt)
# Proves the checker can fail: the right captures under the wrong password must not pass.
add_test(NAME compat_vectors_wrong_password
	COMMAND compat_vectors --password wrong ${MQTTIP_VECTORS}/mqtt_vpn/encrypted-secret.txt)
set_tests_properties(compat_vectors_plaintext compat_vectors_secret compat_vectors_wrong_password
	PROPERTIES LABELS unit)
set_tests_properties(compat_vectors_wrong_password PROPERTIES WILL_FAIL TRUE)

mqttip_fuzz_target(fuzz_legacy fuzz/fuzz_legacy.c mqttip_legacy)
