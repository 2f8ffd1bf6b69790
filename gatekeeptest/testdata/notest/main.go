// Command notest uses gatekeeptest outside a test binary, as production
// code would: the kit must refuse (gatekeeptest's TestRefusesOutsideTestBinary).
package main

import (
	"fmt"
	"testing"

	"github.com/gatekeep/gatekeep/gatekeeptest"
)

// tb is as close to a testing.TB as code outside a test can get.
type tb struct{ testing.TB }

func main() {
	kit := gatekeeptest.New(tb{})
	fmt.Println("the kit ran outside a test:", kit != nil)
}
