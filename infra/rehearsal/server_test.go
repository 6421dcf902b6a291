package rehearsal

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ownMoto starts a moto_server of the rehearsal's own, beside the shared
// one `make test` runs: once a stack has created Lambda functions, moto's
// GET /moto-api/data.json (which the other emulator tests read SMS and
// e-mails from) fails trying to reach Docker, so the stack must not live
// on the shared server. It is started only where the shared one runs
// (MOTO_ENDPOINT set), with the same command (MOTO_SERVER, as
// infra/emulators.sh reads it), and stopped when the test ends.
func ownMoto(t *testing.T) string {
	t.Helper()
	command := strings.Fields(os.Getenv("MOTO_SERVER"))
	if len(command) == 0 {
		if _, err := exec.LookPath("moto_server"); err == nil {
			command = []string{"moto_server"}
		} else {
			command = []string{"python3", "-m", "moto.server"}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(command[0], append(command[1:], "-H", "127.0.0.1", "-p", fmt.Sprint(port))...)
	log, err := os.Create(t.TempDir() + "/moto.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", command, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			res.Body.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			raw, _ := os.ReadFile(log.Name())
			t.Fatalf("moto_server on %s did not answer in 30 s: %v\n%s", endpoint, err, raw)
		}
	}
}
