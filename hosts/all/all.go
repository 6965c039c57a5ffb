// Package all links every host kind into the binary; import it for its side effects.
package all

import (
	_ "github.com/redox-hwtest/redox-hwtest/hosts/cloudhypervisor"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/ipmi"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/pikvm"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/qemu"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/replay"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/serial"
)
