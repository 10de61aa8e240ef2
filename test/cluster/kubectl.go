package main

import (
	"os"

	_ "k8s.io/client-go/plugin/pkg/client/auth" // as upstream cmd/kubectl
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

// kubectlMain mirrors k8s.io/kubernetes/cmd/kubectl. args[0] is the program name.
func kubectlMain(args []string) int {
	os.Args = append([]string{"kubectl"}, args[1:]...)
	logs.GlogSetter(cmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err) // prints and exits non-zero
	}
	return 0
}
