# bash completion for mqttip: commands, pki subcommands, flags, and the files, directories,
# interfaces and node names they take. Installed as /usr/share/bash-completion/completions/mqttip.
# Commands, subcommands, flags and positional arguments are read from the program's own --help
# when TAB is pressed (its "Commands:" list, "mqttip CMD SUB" lines, every -x / --word, the
# DIR / FILE / NAME words of its Usage line), so the completion follows the program it completes.
# Only the kind of value a flag takes is known here.

# _mqttip_help PROGRAM WORDS...: `PROGRAM WORDS --help`, quietly.
_mqttip_help()
{
	"$@" --help 2>/dev/null
}

# _mqttip_flags PROGRAM WORDS...: the flags that WORDS' --help names.
_mqttip_flags()
{
	_mqttip_help "$@" | grep -oE "(^|[][ |,('])--?[A-Za-z0-9][-A-Za-z0-9]*" |
		sed -E "s/^[][ |,(']//" | sort -u
}

# _mqttip_valued PROGRAM WORDS...: the flags that take a value (followed by an upper-case word or a
# URL in --help), one a line.
_mqttip_valued()
{
	_mqttip_help "$@" | grep -oE -- "--?[A-Za-z0-9][-A-Za-z0-9]* +([A-Z][A-Z0-9_/:.]*|mqtts?://)" |
		awk '{ print $1 }' | sort -u
}

# _mqttip_value_kind FLAG: what FLAG's value is: file, dir, iface or other.
_mqttip_value_kind()
{
	case $1 in
	-c | --config | --bundle | --cert | --key | --cafile | --node-cert | --node-key | \
		--network-ca | --psk | --plugin | --socket | --status-socket | --state-file | --out)
		echo file ;;
	--broker-dir) echo dir ;;
	-i | --interface) echo iface ;;
	*) echo other ;;
	esac
}

_mqttip()
{
	local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
	local -a words=() positionals=()
	local i w valued="" flags prev_valued=0

	# The command words (mqttip CMD [SUB]) and the positional arguments before the cursor; a
	# flag's value is neither.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((prev_valued)); then
			prev_valued=0
			continue
		fi
		if [[ $w == -* ]]; then
			[[ -n $valued ]] && grep -qx -- "$w" <<<"$valued" && prev_valued=1
			[[ ${#words[@]} -gt 0 && $(_mqttip_value_kind "$w") != other ]] && prev_valued=1
			continue
		fi
		if [[ ${#words[@]} -eq 0 ]]; then
			words=("$w")
		elif [[ ${#words[@]} -eq 1 && ${#positionals[@]} -eq 0 && ${words[0]} != help ]] &&
			_mqttip_help "$prog" "${words[0]}" |
			awk -v c="${words[0]}" -v s="$w" '$1 == "mqttip" && $2 == c && $3 == s { f = 1 } END { exit !f }'; then
			words+=("$w")
		else
			positionals+=("$w")
		fi
		[[ ${words[0]} != help ]] && valued=$(_mqttip_valued "$prog" "${words[@]}")
	done

	COMPREPLY=()
	# The value of the flag before the cursor.
	if ((prev_valued)) || { [[ ${#words[@]} -gt 0 ]] &&
		[[ $(_mqttip_value_kind "${COMP_WORDS[COMP_CWORD - 1]}") != other ]]; }; then
		case $(_mqttip_value_kind "${COMP_WORDS[COMP_CWORD - 1]}") in
		file)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		dir)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
		iface)
			mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur") ;;
		esac
		return 0
	fi

	# The command.
	if [[ ${#words[@]} -eq 0 ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--help --version" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "help $(_mqttip_help "$prog" |
				awk '/^Commands:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }')" -- "$cur")
		fi
		return 0
	fi

	# `mqttip help CMD [SUB]`
	if [[ ${words[0]} == help ]]; then
		if [[ ${#positionals[@]} -eq 0 ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_mqttip_help "$prog" |
				awk '/^Commands:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }')" -- "$cur")
		elif [[ ${#positionals[@]} -eq 1 ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_mqttip_help "$prog" "${positionals[0]}" |
				awk -v c="${positionals[0]}" '$1 == "mqttip" && $2 == c && NF > 2 && $3 !~ /^[-\[]/ { print $3 }')" -- "$cur")
		fi
		return 0
	fi

	if [[ $cur == -* ]]; then
		flags=$(_mqttip_flags "$prog" "${words[@]}")
		mapfile -t COMPREPLY < <(compgen -W "$flags --help" -- "$cur")
		return 0
	fi

	# A subcommand of CMD, when its --help lists some and none is given yet.
	if [[ ${#words[@]} -eq 1 && ${#positionals[@]} -eq 0 ]]; then
		local subs
		subs=$(_mqttip_help "$prog" "${words[0]}" |
			awk -v c="${words[0]}" '$1 == "mqttip" && $2 == c && NF > 2 && $3 !~ /^[-\[]/ { print $3 }' | sort -u)
		if [[ -n $subs ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
			return 0
		fi
	fi

	# A positional argument: the Usage line's word at this position (DIR, FILE, NAME, ...).
	local kind
	kind=$(_mqttip_help "$prog" "${words[@]}" | sed -n 's/^Usage: *//p' | head -n 1 |
		awk -v skip=$((${#words[@]} + 1)) -v n=${#positionals[@]} '{
			k = 0
			for (i = skip + 1; i <= NF; i++) {
				if ($i ~ /^[-\[]/) break
				if (k++ == n) { print $i; exit }
			}
		}')
	case $kind in
	DIR)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	FILE)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	NAME)
		# a node of the PKI given before it (DIR/nodes/NAME); `issue` makes a new one
		if [[ ${words[1]-} != issue && ${#positionals[@]} -ge 1 && -d ${positionals[0]}/nodes ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(ls "${positionals[0]}/nodes")" -- "$cur")
		fi ;;
	esac
	return 0
}

complete -F _mqttip mqttip
