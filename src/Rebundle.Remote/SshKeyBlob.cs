using System.Security.Cryptography;
using System.Text;

namespace Rebundle.Remote
{
    /// <summary>A public key in SSH wire form (what known_hosts stores in base64), with its fingerprint.</summary>
    public static class SshKeyBlob
    {
        /// <summary>The fingerprint as <c>ssh-keygen -l</c> prints it: <c>SHA256:</c> + unpadded base64.</summary>
        public static string Fingerprint(byte[] blob)
        {
            using var sha = SHA256.Create();
            return "SHA256:" + Convert.ToBase64String(sha.ComputeHash(blob)).TrimEnd('=');
        }

        /// <summary>The key type written inside the blob, e.g. <c>ssh-ed25519</c>; empty when unreadable.</summary>
        public static string KeyType(byte[] blob)
        {
            if (blob.Length < 4) return "";
            var length = (blob[0] << 24) | (blob[1] << 16) | (blob[2] << 8) | blob[3];
            return length > 0 && 4 + length <= blob.Length ? Encoding.ASCII.GetString(blob, 4, length) : "";
        }

        /// <summary>The short name ssh prints: ED25519, RSA, ECDSA.</summary>
        public static string DisplayType(byte[] blob)
        {
            var type = KeyType(blob);
            if (type.StartsWith("ssh-ed25519", StringComparison.Ordinal)) return "ED25519";
            if (type.StartsWith("ssh-rsa", StringComparison.Ordinal)) return "RSA";
            if (type.StartsWith("ecdsa-", StringComparison.Ordinal)) return "ECDSA";
            if (type.StartsWith("ssh-dss", StringComparison.Ordinal)) return "DSA";
            return type.Length == 0 ? "unknown" : type;
        }

        /// <summary>A fingerprint in a canonical form for comparison: prefix kept, padding dropped. Null when not SHA256.</summary>
        public static string? NormalizeFingerprint(string fingerprint)
        {
            var text = fingerprint.Trim();
            if (text.StartsWith("SHA256:", StringComparison.OrdinalIgnoreCase)) text = text.Substring("SHA256:".Length);
            else if (text.IndexOf(':') >= 0) return null; // MD5 "aa:bb:…" or another hash: not accepted
            text = text.TrimEnd('=');
            return text.Length == 0 ? null : "SHA256:" + text;
        }
    }
}
