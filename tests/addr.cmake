# Addresses, topic names and IP headers (common/netaddr, common/topic, common/iphdr).
mqttip_unit_test(test_netaddr SOURCES unit/test_netaddr.c LIBS mqttip_netaddr)
mqttip_unit_test(test_topic SOURCES unit/test_topic.c LIBS mqttip_topic)
mqttip_unit_test(test_iphdr SOURCES unit/test_iphdr.c LIBS mqttip_iphdr mqttip_topic)
target_compile_definitions(test_iphdr PRIVATE MQTTIP_VECTORS_DIR="${MQTTIP_VECTORS}")
mqttip_fuzz_target(fuzz_netaddr fuzz/fuzz_netaddr.c mqttip_netaddr)
mqttip_fuzz_target(fuzz_topic fuzz/fuzz_topic.c mqttip_topic)
mqttip_fuzz_target(fuzz_iphdr fuzz/fuzz_iphdr.c mqttip_iphdr)
