using Rebundle.PowerShell.Remote;
using Rebundle.Remote;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Runs one command on every server piped in, over SSH unless -Transport says otherwise: the
    /// name scripts written before SSM know. Invoke-TtmCommand is the same, transport-neutral.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "TtmSsh", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Invoke-TtmSsh.md")]
    [OutputType(typeof(SshCommandResult))]
    public sealed class InvokeTtmSshCommand : TtmCommandCmdlet
    {
        protected override RemoteTransport? DefaultTransport => RemoteTransport.Ssh;
    }

    /// <summary>
    /// Runs one command on every server piped in, over SSH where a key is found, else over AWS
    /// Systems Manager where the server's agent is online (or as -Transport says): one result per
    /// server, the same whichever way it went.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "TtmCommand", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Invoke-TtmCommand.md")]
    [OutputType(typeof(SshCommandResult))]
    public sealed class InvokeTtmCommandCommand : TtmCommandCmdlet
    {
    }
}
