/* commands.h - the commands of the mqttip program. Each takes the arguments after the program
 * name (argv[0] is the command's own name) and returns the process exit status: 0 done,
 * 1 refused or failed (one line on stderr says why and what to do), 2 bad command line (said in
 * the one style of cli.h). */
#ifndef MQTTIP_COMMANDS_H
#define MQTTIP_COMMANDS_H

#define MQTTIP_EXIT_FAILED 1
#define MQTTIP_EXIT_USAGE  2

int cmd_pki(int argc, char **argv);

#endif
