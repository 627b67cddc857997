# mdblocks.awk - the fenced code blocks of Markdown files, for the docs tests.
#   awk -v out=DIR -f mdblocks.awk FILE...
# writes each block's text to DIR/NNNN (NNNN counts from 0001 over all files) and prints one
# index line per block on stdout, fields separated by the ASCII unit separator (\037; a tab
# would merge empty fields in a shell read):
#   NNNN  FILE  LINE-OF-THE-OPENING-FENCE  INFO-STRING  H2-HEADING  H3-HEADING
# INFO-STRING is what follows the opening ``` ("" when none); headings are the last "## " and
# "### " lines before the block ("" when none). A fence opened and not closed is reported as an
# index line with INFO-STRING "UNCLOSED".
FNR == 1 {
	if (inside)
		print_unclosed()
	h2 = ""
	h3 = ""
	inside = 0
}
!inside && /^## / { h2 = substr($0, 4); h3 = ""; next }
!inside && /^### / { h3 = substr($0, 5); next }
/^```/ {
	if (!inside) {
		n++
		id = sprintf("%04d", n)
		info = substr($0, 4)
		sub(/[ \t]+$/, "", info)
		file = out "/" id
		printf "" > file
		start = FNR
		src = FILENAME
		inside = 1
		printf "%s\037%s\037%d\037%s\037%s\037%s\n", id, FILENAME, FNR, info, h2, h3
	} else {
		close(file)
		inside = 0
	}
	next
}
inside { print > file }
function print_unclosed() {
	printf "%s\037%s\037%d\037UNCLOSED\037%s\037%s\n", id, src, start, h2, h3
}
END {
	if (inside)
		print_unclosed()
}
