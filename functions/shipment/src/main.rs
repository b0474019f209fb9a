oms_aws::sqs_main!(shipment::handle);
