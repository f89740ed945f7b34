using System.Security.Cryptography;
using System.Text;
using Rebundle.Errors;
using Rebundle.Remote;

namespace Rebundle.Ssh.Tests.Core;

/// <summary>The host-key policy and known_hosts parsing, without a server.</summary>
public sealed class KnownHostsTests
{
    // Two made-up ed25519 public key blobs in SSH wire form.
    private static readonly byte[] KeyA = Blob("ssh-ed25519", 1);
    private static readonly byte[] KeyB = Blob("ssh-ed25519", 2);

    private static byte[] Blob(string type, byte fill)
    {
        var typeBytes = Encoding.ASCII.GetBytes(type);
        var blob = new List<byte>();
        blob.AddRange(new byte[] { 0, 0, 0, (byte)typeBytes.Length });
        blob.AddRange(typeBytes);
        blob.AddRange(new byte[] { 0, 0, 0, 32 });
        blob.AddRange(Enumerable.Repeat(fill, 32));
        return blob.ToArray();
    }

    private static string Line(string hosts, byte[] key) => $"{hosts} ssh-ed25519 {Convert.ToBase64String(key)}";

    private static SshConnectionSettings Settings(int port = 22) => new() { ServerName = "RailsAppServer.1", Address = "10.0.0.5", Port = port, KnownHostsFile = "/home/op/.ssh/known_hosts" };

    [Theory]
    [InlineData("10.0.0.5", 22, HostKeyMatch.Known)]
    [InlineData("10.0.0.6", 22, HostKeyMatch.Unknown)]
    [InlineData("10.0.0.5", 2222, HostKeyMatch.Unknown)]
    public void Plain_entries_match_by_address_and_port(string address, int port, HostKeyMatch expected)
    {
        var known = KnownHosts.Parse("# comment\n\n" + Line("web.example,10.0.0.5", KeyA));

        Assert.Equal(expected, known.Check(address, port, KeyA, out _));
    }

    [Fact]
    public void A_non_standard_port_uses_the_bracketed_form()
    {
        var known = KnownHosts.Parse(Line("[10.0.0.5]:2222", KeyA));

        Assert.Equal(HostKeyMatch.Known, known.Check("10.0.0.5", 2222, KeyA, out var line));
        Assert.Equal(1, line);
        Assert.Equal(HostKeyMatch.Unknown, known.Check("10.0.0.5", 22, KeyA, out _));
    }

    [Fact]
    public void Hashed_entries_match_the_name_they_hash()
    {
        var salt = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
        using var hmac = new HMACSHA1(salt);
        var hash = hmac.ComputeHash(Encoding.UTF8.GetBytes("[10.0.0.5]:2222"));
        var known = KnownHosts.Parse(Line($"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hash)}", KeyA));

        Assert.Equal(HostKeyMatch.Known, known.Check("10.0.0.5", 2222, KeyA, out _));
        Assert.Equal(HostKeyMatch.Unknown, known.Check("10.0.0.6", 2222, KeyA, out _));
    }

    [Fact]
    public void Wildcards_match_and_negations_exclude()
    {
        var known = KnownHosts.Parse(Line("10.0.0.*,!10.0.0.9", KeyA));

        Assert.Equal(HostKeyMatch.Known, known.Check("10.0.0.5", 22, KeyA, out _));
        Assert.Equal(HostKeyMatch.Unknown, known.Check("10.0.0.9", 22, KeyA, out _));
    }

    [Fact]
    public void A_listed_host_with_another_key_has_changed_and_the_line_is_named()
    {
        var known = KnownHosts.Parse("# first line\n" + Line("10.0.0.5", KeyB));

        Assert.Equal(HostKeyMatch.Changed, known.Check("10.0.0.5", 22, KeyA, out var line));
        Assert.Equal(2, line);
    }

    [Fact]
    public void A_revoked_key_is_refused_even_for_other_hosts_and_cert_authorities_are_skipped()
    {
        var known = KnownHosts.Parse("@revoked * ssh-ed25519 " + Convert.ToBase64String(KeyA) + "\n@cert-authority *.example " + "ssh-ed25519 " + Convert.ToBase64String(KeyB));

        Assert.Equal(HostKeyMatch.Revoked, known.Check("10.0.0.5", 22, KeyA, out _));
        Assert.Equal(HostKeyMatch.Unknown, known.Check("a.example", 22, KeyB, out _));
    }

    [Fact]
    public void An_unknown_key_is_refused_with_its_fingerprint_unless_new_keys_are_trusted()
    {
        var refused = HostKeyVerifier.Decide(Settings(), "", KeyA);
        var trusted = HostKeyVerifier.Decide(Settings() with { TrustNewHostKey = true }, null, KeyA);

        Assert.False(refused.Accept);
        Assert.Equal(TtmErrorCode.SshHostKeyRejected, refused.Rejection!.Code);
        Assert.Contains(SshKeyBlob.Fingerprint(KeyA), refused.Rejection.Message);
        Assert.Contains("ED25519", refused.Rejection.Message);
        Assert.Equal("RailsAppServer.1", refused.Rejection.Target);
        Assert.True(trusted.Accept);
        Assert.Equal(Line("10.0.0.5", KeyA), trusted.LineToRemember);
    }

    [Fact]
    public void A_changed_key_is_refused_even_when_new_keys_are_trusted()
    {
        var decision = HostKeyVerifier.Decide(Settings(2222) with { TrustNewHostKey = true }, Line("[10.0.0.5]:2222", KeyB), KeyA);

        Assert.False(decision.Accept);
        Assert.Null(decision.LineToRemember);
        Assert.Contains("CHANGED", decision.Rejection!.Message);
        Assert.Contains("ssh-keygen -R '[10.0.0.5]:2222' -f '/home/op/.ssh/known_hosts'", decision.Rejection.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Pinned_fingerprints_decide_alone_with_or_without_prefix_and_padding(bool withPrefix)
    {
        var fingerprint = SshKeyBlob.Fingerprint(KeyA);
        var pin = withPrefix ? fingerprint + "=" : fingerprint.Substring("SHA256:".Length);

        var accepted = HostKeyVerifier.Decide(Settings() with { HostKeyFingerprints = new[] { pin } }, Line("10.0.0.5", KeyB), KeyA);
        var refused = HostKeyVerifier.Decide(Settings() with { HostKeyFingerprints = new[] { pin } }, Line("10.0.0.5", KeyB), KeyB);

        Assert.True(accepted.Accept);
        Assert.False(refused.Accept);
        Assert.Contains("pinned", refused.Rejection!.Message);
    }

    [Fact]
    public void Fingerprints_look_like_ssh_keygen_output()
    {
        var fingerprint = SshKeyBlob.Fingerprint(KeyA);

        Assert.StartsWith("SHA256:", fingerprint);
        Assert.DoesNotContain("=", fingerprint);
        Assert.Equal(50, fingerprint.Length); // 7 + 43 base64 characters for 32 bytes
        Assert.Null(SshKeyBlob.NormalizeFingerprint("aa:bb:cc")); // MD5 fingerprints are not accepted
    }
}
