using System.Text;

namespace Rebundle.Remote
{
    /// <summary>Reads just enough of a private key's text to tell whether it needs a passphrase.</summary>
    public static class PrivateKeyText
    {
        private const string OpenSshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
        private const string OpenSshEnd = "-----END OPENSSH PRIVATE KEY-----";

        /// <summary>
        /// True for an encrypted key: a traditional PEM key with <c>Proc-Type: 4,ENCRYPTED</c>, a PKCS#8
        /// <c>ENCRYPTED PRIVATE KEY</c>, or an OpenSSH key whose cipher is not <c>none</c>.
        /// </summary>
        public static bool NeedsPassphrase(string keyText)
        {
            if (keyText.IndexOf("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal) >= 0) return true;
            if (keyText.IndexOf("BEGIN ENCRYPTED PRIVATE KEY", StringComparison.Ordinal) >= 0) return true;
            var begin = keyText.IndexOf(OpenSshBegin, StringComparison.Ordinal);
            var end = keyText.IndexOf(OpenSshEnd, StringComparison.Ordinal);
            if (begin < 0 || end < begin) return false;
            try
            {
                var body = Convert.FromBase64String(keyText.Substring(begin + OpenSshBegin.Length, end - begin - OpenSshBegin.Length).Replace("\r", "").Replace("\n", ""));
                // "openssh-key-v1\0", then the cipher name as an SSH string (uint32 length + bytes).
                const int magicLength = 15;
                if (body.Length < magicLength + 4) return false;
                var length = (body[magicLength] << 24) | (body[magicLength + 1] << 16) | (body[magicLength + 2] << 8) | body[magicLength + 3];
                if (length <= 0 || magicLength + 4 + length > body.Length) return false;
                return Encoding.ASCII.GetString(body, magicLength + 4, length) != "none";
            }
            catch (FormatException)
            {
                return false;
            }
        }
    }
}
