# VPN node certificates (common/cert.c): unit test and fuzz target.
mqttip_unit_test(test_cert SOURCES unit/test_cert.c LIBS mqttip_cert)
mqttip_fuzz_target(fuzz_cert fuzz/fuzz_cert.c mqttip_cert)
