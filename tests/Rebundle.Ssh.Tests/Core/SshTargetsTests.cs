using System.Security;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Remote;

namespace Rebundle.Ssh.Tests.Core;

/// <summary>Servers into connection settings: addresses, keys per farm, passphrases asked once.</summary>
public sealed class SshTargetsTests
{
    private static Server Server(string alias, string farmId, string? publicIp, string? privateIp = "10.0.0.9") => new()
    {
        Farm = "Rebundle-Staging", FarmId = farmId, Alias = alias, Index = 1, Region = "us-east-1", PublicIp = publicIp, PrivateIp = privateIp, Status = ServerStatus.Running,
    };

    private static KeyFileResolver Keys => new("/home/op", _ => true);

    [Fact]
    public void The_public_address_is_used_else_the_private_one_unless_overridden()
    {
        var targets = new SshTargets(new SshOptions(), Keys);

        Assert.Equal("203.0.113.5", targets.For(Server("RailsAppServer", "42", "203.0.113.5")).Address);
        Assert.Equal("10.0.0.9", targets.For(Server("RailsAppServer", "42", null)).Address);
        Assert.Equal("127.0.0.1", new SshTargets(new SshOptions { Address = "127.0.0.1" }, Keys).For(Server("RailsAppServer", "42", "203.0.113.5")).Address);
    }

    [Fact]
    public void A_server_without_any_address_is_refused_by_name()
    {
        var error = Assert.Throws<TtmException>(() => new SshTargets(new SshOptions(), Keys).For(Server("Sidekiq", "42", null, null)));

        Assert.Equal(TtmErrorCode.SshConnectionFailed, error.Code);
        Assert.Contains("Sidekiq.1", error.Message);
        Assert.Contains("-Address", error.Message);
    }

    [Fact]
    public void Each_farm_gets_its_own_key_and_each_key_is_asked_for_once()
    {
        var asked = new List<string>();
        var targets = new SshTargets(new SshOptions(), Keys, key => { asked.Add(key); return new SecureString(); });

        var a = targets.For(Server("RailsAppServer", "42", "203.0.113.5"));
        var b = targets.For(Server("Sidekiq", "42", "203.0.113.6"));
        var c = targets.For(Server("Sidekiq", "77", "203.0.113.7"));

        Assert.Equal("/home/op/.ssh/FARM-42.us-east-1.private.pem", a.KeyFile);
        Assert.Equal(a.KeyFile, b.KeyFile);
        Assert.Equal("/home/op/.ssh/FARM-77.us-east-1.private.pem", c.KeyFile);
        Assert.Equal(new[] { a.KeyFile, c.KeyFile }, asked);
        Assert.Same(a.Passphrase, b.Passphrase);
    }

    [Fact]
    public void A_given_passphrase_is_used_without_asking()
    {
        var given = new SecureString();
        var targets = new SshTargets(new SshOptions { Passphrase = given }, Keys, _ => throw new InvalidOperationException("asked"));

        Assert.Same(given, targets.For(Server("RailsAppServer", "42", "203.0.113.5")).Passphrase);
    }
}
