using System.Collections.Generic;
using Rebundle.Domain;

namespace Rebundle.Backends
{
    /// <summary>
    /// A backend that can find images by name. A resumed rebundle uses it to find an image that
    /// was started just before a crash, before the journal could record its id, instead of
    /// snapshotting the role a second time.
    /// </summary>
    public interface IImageLookup
    {
        IReadOnlyList<Image> FindImagesByName(string name);
    }

    /// <summary>A backend that can retire a role (and, where it owns them, its image and disk snapshots).</summary>
    public interface IRoleRetirement
    {
        /// <summary>Deletes the role; with <paramref name="deleteImage"/> also its image and the image's snapshots.</summary>
        void DeleteRole(Role role, bool deleteImage);
    }
}
