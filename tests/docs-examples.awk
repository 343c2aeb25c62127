# tests/docs-examples.awk — extract the shell examples of a README (inside
# ``` fences) or of a man page (inside .nf/.fi): each line that starts with
# "$ " is a command (a line ending in a backslash continues it), the lines
# after it, up to the next command or the end of the block, are its shown
# output.  Writes DIR/N.cmd, DIR/N.out and DIR/N.where (FILE:LINE) from
# N = FIRST on; roff escapes are undone for man pages.
# Usage: awk -v dir=DIR -v first=N -v man=0|1 -f docs-examples.awk FILE
function unroff(s) {
    gsub(/\\-/, "-", s); gsub(/\\\(aq/, "'", s); gsub(/\\&/, "", s)
    gsub(/\\f[BIRP]/, "", s); gsub(/\\e/, "\\", s)
    return s
}
function close_example() {
    if (n >= first && open_ex) { close(dir "/" n ".cmd"); close(dir "/" n ".out") }
    open_ex = 0
}
BEGIN { n = first - 1; inblock = 0; cont = 0 }
{
    line = $0
    if (!man && line ~ /^```/) { if (inblock) close_example(); inblock = !inblock; next }
    if (man && line ~ /^\.(nf|EX)/) { inblock = 1; next }
    if (man && line ~ /^\.(fi|EE)/) { close_example(); inblock = 0; next }
    if (!inblock) next
    if (man) line = unroff(line)
    if (cont) {
        printf "%s\n", line > (dir "/" n ".cmd")
        cont = line ~ /\\$/
        next
    }
    if (line ~ /^\$ /) {
        close_example()
        n++; open_ex = 1
        printf "%s:%d\n", FILENAME, FNR > (dir "/" n ".where"); close(dir "/" n ".where")
        printf "%s\n", substr(line, 3) > (dir "/" n ".cmd")
        printf "" > (dir "/" n ".out")
        cont = line ~ /\\$/
        next
    }
    if (open_ex) printf "%s\n", line > (dir "/" n ".out")
}
END { close_example(); print n }
