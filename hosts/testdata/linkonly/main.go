// Command linkonly is a program that links only what it names: the host kind qemu (not
// hosts/all, not hosts/secrets) and the record writer. hosts' TestBinaryLinksOnlyWhatItNames
// runs it to prove that what a program checks and hides does not depend on other packages
// being linked: a matrix is checked against the kinds it registered (a qemu options typo is
// refused at file:line:col, a serial host is refused as a kind not built in), and a
// record's strings are redacted by the writer itself.
//
// usage: linkonly load MATRIX | linkonly record DIR SECRET
package main

import (
	"fmt"
	"os"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/qemu"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/record/redact"
)

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "load":
		if _, err := hosts.LoadMatrix(os.Args[2], matrix.LoadOptions{SkipFileChecks: true}); err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
	case len(os.Args) == 4 && os.Args[1] == "record":
		redact.Register(os.Args[3])
		r := &record.Record{Job: "i@h/boot", Suite: "boot", Checks: []record.Check{{Name: "boot/login", Verdict: record.Infra, Message: "bmc said " + os.Args[3]}}}
		dir, err := record.Write(os.Args[2], r)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		fmt.Println(dir)
	default:
		fmt.Fprintln(os.Stderr, "usage: linkonly load MATRIX | linkonly record DIR SECRET")
		os.Exit(2)
	}
}
