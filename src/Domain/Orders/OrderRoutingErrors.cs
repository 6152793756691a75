namespace ThreePL.Domain.Orders;

/// <summary>The rules a delegation of an order to a connection can break.</summary>
public static class OrderRoutingErrors
{
    /// <summary>The owner of the shipping rules has carrier accounts and none offers the order's shipping service.</summary>
    public const string CarrierServiceNotSupported = "carrier_service_not_supported";

    /// <summary>The message the seed articles give for <see cref="CarrierServiceNotSupported"/>, word for word.</summary>
    public const string CarrierServiceNotSupportedMessage = "The shipping service is not valid because the client does not have a carrier account that supports it.";

    /// <summary>The connection is not active.</summary>
    public const string ConnectionNotActive = "connection_not_active";

    /// <summary>The connection has <c>manageOrders</c> off.</summary>
    public const string ConnectionNotManagingOrders = "connection_not_managing_orders";

    /// <summary>The connection does not exist or is not the merchant's.</summary>
    public const string NoSuchConnection = "no_such_connection";

    /// <summary>The order changed after routing was requested.</summary>
    public const string VersionChanged = "version_changed";
}
