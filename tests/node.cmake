# The node engine (common/node*.c): nodes wired through an in-memory broker on a fake clock.
add_library(mqttip_node_lab STATIC unit/node_lab.c)
target_link_libraries(mqttip_node_lab PUBLIC mqttip_node)
mqttip_unit_test(test_node SOURCES unit/test_node.c LIBS mqttip_node_lab)
