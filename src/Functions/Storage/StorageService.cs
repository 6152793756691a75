namespace ThreePL.Functions.Storage;

public enum StorageService
{
    Table,
    Queue,
}
