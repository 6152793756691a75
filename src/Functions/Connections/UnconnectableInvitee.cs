using System.Security.Cryptography;
using System.Text;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Connections;

/// <summary>
/// An invitation by e-mail must not tell the inviter whether the address has an account, or of which kind. When the
/// address belongs to an account that cannot be the counterpart (another 3PL for a 3PL, another shop for a shop), the
/// invitation is answered like any other, but its invitee is a stand-in nobody can act as: the invitation can only
/// expire or be cancelled, and the address gets an e-mail telling its owner why. The stand-in's id is keyed on the
/// signing key, the inviter and the address, so inviting the same address again conflicts like any pending
/// invitation does, and the inviter cannot compute it to tell the cases apart.
/// </summary>
public sealed class UnconnectableInvitee(byte[] key)
{
    public static UnconnectableInvitee FromConfiguration(IConfiguration configuration) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes("stand-in|" + ConnectTokens.SigningKey(configuration))));

    public AccountId StandIn(AccountId inviter, EmailAddress address) =>
        AccountId.From(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(inviter.Value + "|" + address.Value)));
}
