// Command ertmp is the ertmp toolbox: a live RTMP server and the everyday
// tools around it.
//
//	ertmp probe [-json] FILE.flv    report the streams of an FLV file
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `ertmp: RTMP for Go

usage: ertmp COMMAND [flags] [args]

commands:
  probe     report the streams, codecs and packets of an FLV file
  version   print the version

Run "ertmp COMMAND -h" for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status, so tests
// run commands in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "probe":
		return probeCmd(args[1:], stdout, stderr)
	case "serve", "publish", "play", "bench":
		fmt.Fprintf(stderr, "ertmp %s: not in this build yet; the protocol layers it needs are being built\n", args[0])
		return 2
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "ertmp", version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "ertmp: unknown command %q\n\n%s", args[0], usage)
	return 2
}
