using Dot.Api.Assets;
using Dot.Api.Connectors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class ExternalAssetConfiguration : IEntityTypeConfiguration<ExternalAsset>
{
    public void Configure(EntityTypeBuilder<ExternalAsset> builder)
    {
        // AssetService.ImportAsync names this table and its columns in its INSERT … ON CONFLICT statement.
        builder.ToTable("external_assets");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasMaxLength(ExternalAssetImport.MaxIdLength);
        builder.Property(a => a.Subtype).HasMaxLength(ExternalAssetImport.MaxSubtypeLength);
        builder.Property(a => a.Folder).HasMaxLength(ExternalAssetImport.MaxFolderLength);
        builder.Property(a => a.Name).HasMaxLength(ExternalAssetImport.MaxNameLength).IsRequired();
        builder.Property(a => a.Description).HasMaxLength(ExternalAssetImport.MaxDescriptionLength);
        builder.Property(a => a.Url).HasMaxLength(ExternalAssetImport.MaxUrlLength);
        builder.Property(a => a.DotDescription).HasMaxLength(ExternalAssetImport.MaxDescriptionLength);
        builder.Property(a => a.Revision).IsRequired();
        builder.HasIndex(a => new { a.Subtype, a.Folder });
    }
}
