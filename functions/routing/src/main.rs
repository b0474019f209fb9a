oms_aws::sqs_main!(routing::handle);
